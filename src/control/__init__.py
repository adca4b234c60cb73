"""Compliant control: impedance/admittance, seam following, hand guiding, rail patrol, contact probe, safety."""
