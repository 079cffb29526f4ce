"""The public transparency figures: survey results and complaint handling per unit and
period, with small counts suppressed."""
