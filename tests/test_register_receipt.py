"""Receipt: plausible CoA assay, water and tablet weight; lot numbers unique ignoring case.

Limits (data): rules.toml [receipt] assay 90–110 %, water 0–20 %; products.csv
naltrexone-hcl-50mg-tablet weight 100–1000 mg (and above its 50 mg of drug).
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from compound.catalog import loader
from compound.errors import InputError, RegisterError
from compound.register import Register, db, migrations, schema

API, TABLETS = "naltrexone-hcl-api", "naltrexone-hcl-50mg-tablet"


@pytest.fixture
def reg(tmp_path):
    with Register.open(tmp_path / "register.sqlite3") as register:
        yield register


def receive(reg, item, **measured):
    return reg.receive_ingredient(item=item, lot_number="LOT-1", expiry="2027-01",
                                  received_by="AB", **measured)


def rows(reg):
    with db.read(reg.engine) as conn:
        return conn.execute(schema.ingredient_lots.select()).all()


@pytest.mark.parametrize(("item", "measured", "match"), [
    (API, {"assay": "89.9%"}, "assay: 89.9 % is outside 90–110 %"),
    (API, {"assay": "110.1%"}, "outside 90–110 %"),
    (API, {"assay": "992%"}, "not 992%"),
    (API, {"assay": "0%"}, "outside 90–110 %"),
    (API, {"water": "20.1%"}, "water: 20.1 % is outside 0–20 %"),
    (API, {"water": "87%"}, "outside 0–20 %"),
    (TABLETS, {"tablet_weight": "99mg"}, "99 mg is outside 100 mg–1000 mg"),
    (TABLETS, {"tablet_weight": "1001mg"}, "outside 100 mg–1000 mg"),
    (TABLETS, {"tablet_weight": "2g"}, "outside 100 mg–1000 mg"),
    (TABLETS, {"tablet_weight": "50mg"}, "not more than the 50 mg of drug"),
])
def test_implausible_measurements_are_refused_at_receipt(reg, item, measured, match):
    with pytest.raises(InputError, match=match):
        receive(reg, item, **measured)
    assert rows(reg) == []


@pytest.mark.parametrize(("item", "measured"), [
    (API, {"assay": "90%", "water": "0%"}),          # the edges are accepted
    (API, {"assay": "110%", "water": "20%"}),
    (API, {"assay": "99.2%", "water": "8.71%"}),
    (TABLETS, {"tablet_weight": "100mg"}),
    (TABLETS, {"tablet_weight": "1000mg"}),
    (TABLETS, {"tablet_weight": "0.2g"}),
])
def test_plausible_measurements_are_received(reg, item, measured):
    assert receive(reg, item, **measured) == "LOT-1"


def test_a_products_own_coa_limits_replace_the_general_ones(reg, overlay):
    (overlay / "products.csv").write_text(
        "key,coa_assay_low_pct,coa_assay_high_pct,coa_water_max_pct,source\n"
        f"{API},98,102,1,Supplier CoA specification (overlay test)\n")
    loader.clear_cache()
    with pytest.raises(InputError, match="97 % is outside 98–102 %"):
        receive(reg, API, assay="97%")
    with pytest.raises(InputError, match=r"1\.5 % is outside 0–1 %"):
        receive(reg, API, water="1.5%")
    assert receive(reg, API, assay="101%", water="0.5%") == "LOT-1"


# -- lot numbers are unique ignoring case ----------------------------------------------------------

def test_a_lot_number_differing_only_in_case_is_refused(reg):
    receive(reg, TABLETS, tablet_weight="200mg")  # LOT-1
    with pytest.raises(RegisterError, match=r"ingredient lot LOT-1 \(lot-1\) was already received "
                                            "on 2025-03-10.*ignoring case"):
        reg.receive_ingredient(item="mcc", lot_number="lot-1", expiry="2027-01", received_by="AB")
    assert len(rows(reg)) == 1


def test_the_database_itself_refuses_a_case_twin(reg):
    """The unique index on lower(lot_number) holds even for a write outside the tool."""
    receive(reg, TABLETS)
    with db.write(reg.engine) as conn:
        row = dict(conn.execute(schema.ingredient_lots.select()).first()._mapping)
    row.pop("id")
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"), db.write(reg.engine) as conn:
        conn.execute(schema.ingredient_lots.insert().values(**{**row, "lot_number": "lot-1"}))


def _open_at_version_1(path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        m.setattr(migrations, "LATEST", 1)
        Register.open(path).close()


def test_a_version_1_register_gains_the_index_as_one_audited_step(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    _open_at_version_1(path, monkeypatch)
    with Register.open(path) as reg:
        assert [(e.seq, e.payload["version"]) for e in reg.events()][:3] == [(1, 1), (2, 2), (3, 3)]
        assert reg.verify().ok
        receive(reg, TABLETS)
        with pytest.raises(RegisterError, match="already received"):
            reg.receive_ingredient(item="mcc", lot_number="Lot-1", expiry="2027-01",
                                   received_by="AB")


def test_a_version_1_register_with_case_twins_is_not_changed(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    _open_at_version_1(path, monkeypatch)
    with sqlite3.connect(path) as conn:  # as an older compound could have written them
        for number in ("NTX2403", "ntx2403"):
            conn.execute("INSERT INTO ingredient_lots (lot_number, item_key, item_kind, "
                         "item_name, expiry, expiry_from_month, received, received_by, "
                         "recorded_at) VALUES (?, 'mcc', 'excipient', 'MCC', '2027-01-31', 0, "
                         "'2025-03-01', 'AB', '2025-03-01T00:00:00Z')", (number,))
    with pytest.raises(RegisterError, match=r"differ only in case \(NTX2403 / ntx2403\)"):
        Register.open(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
