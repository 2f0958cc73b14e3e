"""The catalog: every row has a source; a pharmacy overlay replaces and adds rows."""

from __future__ import annotations

import pytest

from compound import paths
from compound.catalog import loader
from compound.errors import CatalogError, InputError
from compound.planning import resolve

TABLES = ["molecules", "products", "excipients", "capsule_sizes", "balances", "dose_bands"]


@pytest.mark.parametrize("name", TABLES)
def test_every_shipped_row_names_its_source(name):
    rows = loader.table(name)
    assert rows
    assert all(row["source"] for row in rows)


def test_rules_sections_name_their_source():
    for section, values in loader.rules().items():
        assert values.get("source"), section


def test_published_molecular_weights():
    s = resolve.salts()
    assert s.mw_base == 341.40 and s.mw_hcl == 377.86 and s.mw_dihydrate == 413.89
    # domain.md 1.1: base/HCl = 0.9035 -> 50 mg HCl = 45.18 mg base (Medsafe: 45.2 mg)
    assert 50 * s.mw_base / s.mw_hcl == pytest.approx(45.18, abs=0.005)
    # dihydrate water 36.03 / 413.89 = 8.71 %
    assert s.dihydrate_water == pytest.approx(36.03 / 413.89, abs=1e-4)


def test_capsule_volumes_match_the_common_chart():
    # prior-art T15
    expected = {"000": 1.37, "00": 0.95, "0": 0.68, "1": 0.50, "2": 0.37, "3": 0.30, "4": 0.21,
                "5": 0.13}
    for size, volume in expected.items():
        assert float(resolve.capsule_size(size)["volume_ml"]) == volume
    assert resolve.capsule_size("#3")["key"] == "3"


def test_overlay_replaces_fields_and_adds_rows(overlay):
    (overlay / "balances.csv").write_text(
        "key,name,sensitivity_mg,max_error_pct,source\n"
        "class-iii,,,3,SOP-12 our tolerance\n"
        "bench-1,Bench balance 1,2,5,measured 2025-03-01 AB\n"
    )
    loader.clear_cache()
    b = resolve.balance("class-iii")
    assert b.sensitivity_mg == 6 and b.max_error == 0.03 and b.mwq_mg == pytest.approx(200)
    assert resolve.balance("bench-1").mwq_mg == pytest.approx(40)


def test_overlay_row_without_source_is_refused(overlay):
    (overlay / "balances.csv").write_text(
        "key,name,sensitivity_mg,max_error_pct,source\nbench-2,Bench,2,5,\n"
    )
    loader.clear_cache()
    with pytest.raises(CatalogError, match="no source"):
        loader.table("balances")


def test_overlay_rules_merge_key_by_key(overlay):
    (overlay / "rules.toml").write_text("[balance]\ndefault = 'analytical-0.1mg'\n")
    loader.clear_cache()
    assert resolve.balance().key == "analytical-0.1mg"
    assert loader.rules()["balance"]["source"]  # kept from the shipped file


def test_unknown_key_lists_the_known_ones():
    with pytest.raises(InputError, match="Known: 0, 00, 000, 1, 2, 3, 4, 5"):
        resolve.capsule_size("7")
    with pytest.raises(InputError, match="mcc"):
        resolve.excipient("chalk")
    assert resolve.excipient("Avicel")["key"] == "mcc"


def test_malformed_catalog_is_a_catalog_error(overlay):
    (overlay / "balances.csv").write_text("name,source\nx,y\n")
    loader.clear_cache()
    with pytest.raises(CatalogError, match="missing column"):
        loader.table("balances")


def test_data_dir_is_found():
    assert (paths.data_dir() / "molecules.csv").is_file()


def test_today_override_and_bad_value(monkeypatch):
    import datetime as dt

    from compound.errors import DateInputError

    assert paths.today() == dt.date(2025, 3, 10)
    monkeypatch.setenv("COMPOUND_TODAY", "2025-02-30")
    with pytest.raises(DateInputError):
        paths.today()
