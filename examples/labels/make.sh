#!/usr/bin/env bash
# Remakes the example labels in this folder (README "Labels") with the tool itself:
# a throwaway register, two received ingredient lots, a capsule lot planned, saved
# and released today, then its patient label as PDF, ZPL and CSV, its stock label,
# its compounding record, and label.png (the PDF rendered by pdftoppm, poppler-utils).
#   bash examples/labels/make.sh        (with compound on PATH, e.g. .venv/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COMPOUND_DB="$work/register.sqlite3" COMPOUND_CATALOG="$work/no-overlay" \
       COMPOUND_PHARMACY="$here/pharmacy.toml"
today=$(date +%F)

compound lots receive naltrexone-hcl-50mg-tablet NTX2403 --expiry 2028-05 --tablet-weight 200mg --by AB
compound lots receive mcc MCC77 --expiry 2028-08 --by AB
lot=$(compound plan capsules --strength 4.5mg --count 30 --overage 1 --tablet-weight 200mg \
        --fill-weight 100mg --compounded "$today" --ingredient-lot NTX2403 --ingredient-lot MCC77 \
        --save --by AB --checked-by CD --json | sed -n 's/.*"lot_number": "\([^"]*\)".*/\1/p')
compound lots release "$lot" --by CD

patient=(--rx RX1001 --patient "Jane Doe" --prescriber "Dr A. Example"
         --directions "Take 1 capsule by mouth at bedtime")
compound labels "$lot" "${patient[@]}" --format pdf -o "$here/label.pdf"
compound labels "$lot" "${patient[@]}" --format zpl -o "$here/label.zpl"
compound labels "$lot" "${patient[@]}" --format csv -o "$here/label.csv"
compound labels "$lot" --stock --format pdf -o "$here/stock-label.pdf"
compound record "$lot" --format txt -o "$here/record.txt"
pdftoppm -r 150 -png -singlefile "$here/label.pdf" "$here/label"
