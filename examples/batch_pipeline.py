"""Plan a day's prescriptions from a pandas DataFrame with compound's Python API.

Run from the repository: ``python examples/batch_pipeline.py``. It reads the
example prescriptions, plans them with :func:`compound.batch.plan_frame` (the
function ``compound batch`` is built on), and prints three things a pharmacy
script might want: the rows that need the pharmacist's attention, the
capsules to make today grouped by strength, and the tablets to pull from
stock. Nothing is written to disk.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from compound.batch import plan_frame
from compound.core.figures import format_count, format_mass

HERE = Path(__file__).resolve().parent


def main() -> None:
    # Every cell as text, exactly as typed: "030" stays "030", "4.5mg" is read by compound.
    prescriptions = pd.read_csv(HERE / "ldn-prescriptions.csv", dtype=str, keep_default_na=False)
    prescriptions = prescriptions.replace("", None)
    plans = plan_frame(prescriptions)

    attention = plans[plans["status"].isin(["warning", "refused", "error"])]
    print(f"{len(plans)} prescriptions: " + ", ".join(
        f"{n} {status}" for status, n in plans["status"].value_counts().items()))
    print("\nNeeds the pharmacist:")
    for row in attention.itertuples():
        why = row.errors if row.status == "error" else row.findings
        print(f"  row {row.row:>2} {row.rx:<7} {row.status:<8} {str(why)[:90]}")

    capsules = plans[(plans["form"] == "capsules") & plans["status"].isin(["ok", "warning"])]
    made = capsules.groupby("strength_hcl_mg")["capsules_to_prepare"].sum()
    # Amounts printed by the project's rule (format_mass: "1 mg", never "1.0"), counts whole.
    print("\nCapsules to make today (naltrexone HCl per capsule):")
    for strength_mg, count in made.items():
        print(f"  {format_mass(strength_mg):>6}  {format_count(count, 'capsule')}")

    tablets = plans.loc[plans["status"].isin(["ok", "warning"]), "tablets_to_crush"].sum()
    print(f"\n50 mg tablets to pull from stock: {format_count(tablets, 'tablet')}")


if __name__ == "__main__":
    main()
