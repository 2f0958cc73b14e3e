"""core/salts.py against published figures (domain.md 1.1-1.2; prior-art T6, T29)."""

from __future__ import annotations

import numpy as np
import pytest

from compound.core.rounding import round_sig
from compound.core.salts import api_to_weigh_mg, as_is_potency, hydrate_mismatch_error, to_hcl_mg

MW_BASE, MW_HCL, MW_DIHYDRATE = 341.40, 377.86, 413.89  # domain.md 1.1
DIHYDRATE_WATER = 0.08705  # 36.03 / 413.89, molecules.csv


def test_t29_dihydrate_factor_from_theoretical_water_equals_the_molar_ratio():
    # T29: 413.89 / 377.86 = 1.0954; weighing the dihydrate (assay 100 %, water 8.705 %)
    # must need the same factor: 1 / (1 - 0.08705) = 1.09535.
    factor = api_to_weigh_mg(1.0, False, 1.0, DIHYDRATE_WATER, MW_HCL, MW_BASE)
    assert factor == pytest.approx(MW_DIHYDRATE / MW_HCL, rel=1e-5)
    assert round(float(factor), 4) == 1.0954
    # 4.5 mg HCl = 4.93 mg dihydrate (domain.md 1.1)
    weigh = api_to_weigh_mg(4.5, False, 1.0, DIHYDRATE_WATER, MW_HCL, MW_BASE)
    assert weigh == pytest.approx(4.929, abs=5e-4)


def test_coa_assay_and_water_by_hand():
    # CoA: assay 99.2 % (anhydrous basis), water 8.71 %.
    # potency = 0.992 x (1 - 0.0871) = 0.992 x 0.9129 = 0.9055968
    # 4.5 mg HCl -> 4.5 / 0.9055968 = 4.96910 mg powder
    assert as_is_potency(0.992, 0.0871) == pytest.approx(0.9055968, rel=1e-12)
    assert api_to_weigh_mg(4.5, False, 0.992, 0.0871, MW_HCL, MW_BASE) == pytest.approx(4.96910, abs=1e-5)


def test_base_strength_to_hcl():
    # 4.5 mg base = 4.5 x 377.86 / 341.40 = 1700.37 / 341.40 = 4.98058 mg HCl.
    # domain.md 1.1 prints 4.98 and the brief 4.980: to 4 significant figures it is 4.981.
    assert to_hcl_mg(4.5, True, MW_HCL, MW_BASE) == pytest.approx(4.98058, abs=1e-5)
    assert float(round_sig(to_hcl_mg(4.5, True, MW_HCL, MW_BASE))) == 4.981
    assert to_hcl_mg(4.5, False, MW_HCL, MW_BASE) == 4.5
    # 50 mg HCl = 50 x 341.40 / 377.86 = 45.18 mg base (Medsafe: 45.2 mg)
    assert to_hcl_mg(45.1755, True, MW_HCL, MW_BASE) == pytest.approx(50, abs=1e-4)


def test_base_powder_delivers_the_hcl_equivalent():
    # 4.9806 mg HCl as base powder (assay 100 %) weighs 4.9806 x 341.40 / 377.86 = 4.5 mg
    hcl = 4.5 * MW_HCL / MW_BASE
    assert api_to_weigh_mg(hcl, True, 1.0, 0.0, MW_HCL, MW_BASE) == pytest.approx(4.5, rel=1e-12)


def test_t6_purity_factor_88_percent():
    # T6: factor = 100 / 88 = 1.13636... (RxOne prints 1.1363: truncated, not rounded)
    factor = float(api_to_weigh_mg(1.0, False, 0.88, 0.0, MW_HCL, MW_BASE))
    assert factor == pytest.approx(1.136363636, rel=1e-9)
    assert float(round_sig(factor)) == 1.136
    assert round(factor, 5) == 1.13636


def test_hydrate_mismatch_error_is_the_water_fraction():
    # weighing the dihydrate as if anhydrous delivers (1 - 0.08705): -8.705 %
    assert hydrate_mismatch_error(DIHYDRATE_WATER) == pytest.approx(-0.08705)


def test_vectorised_over_columns():
    hcl = np.array([4.5, 1.5, 0.5])
    base = np.array([False, True, False])
    out = to_hcl_mg(hcl, base, MW_HCL, MW_BASE)
    np.testing.assert_allclose(out, [4.5, 1.5 * MW_HCL / MW_BASE, 0.5])
    weigh = api_to_weigh_mg(hcl, base, np.array([1.0, 0.99, 0.992]), np.array([0.0, 0.0, 0.0871]),
                            MW_HCL, MW_BASE)
    # row 2 is base powder: 1.5 x 341.40 / 377.86 / 0.99
    np.testing.assert_allclose(weigh, [4.5, 1.5 * MW_BASE / MW_HCL / 0.99, 0.5 / 0.9055968])
