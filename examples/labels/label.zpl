^XA
^CI28
^PW812
^LL406
^LH0,0
^FO14,14^A0N,20,20^FH^FDExample Compounding Pharmacy _C2_B7 1 Main Street, Springfield, IL 62701 _C2_B7 (555) 010-0100^FS
^FO14,39^A0N,39,39^FH^FDJane Doe^FS
^FO14,88^A0N,39,39^FH^FDNaltrexone HCl 4.5 mg capsules^FS
^FO14,137^A0N,39,39^FH^FDTake 1 capsule by mouth at bedtime^FS
^FO14,187^A0N,20,20^FH^FDRx RX1001   Qty 30 capsules   Route oral   Prescriber Dr A. Example^FS
^FO14,211^A0N,20,20^FH^FDStore at 20_E2_80_9325 _C2_B0C.  Protect from light.  This is a compounded preparation.  Contains^FS
^FO14,236^A0N,20,20^FH^FDnaltrexone: blocks opioid medicines. Tell every prescriber and emergency staff.^FS
^FO251,341^A0N,20,20^FH^FDUse by (BUD) 2027-06-01^FS
^FO251,366^A0N,20,20^FH^FDCompounded 2026-12-04   Lot LDN-20261204-0001^FS
^FO746,366^A0N,20,20^FH^FD1 of 1^FS
^FO34,341^BY2,3,51^BCN,51,N,N,N,A^FH^FDRX1001^FS
^PQ1
^XZ
