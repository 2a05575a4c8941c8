"""Figures in the course style (matplotlib only): grids, charts, training plots."""
