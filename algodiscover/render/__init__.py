"""Renderings of schemes: text formulas, LaTeX, circuit graphs."""
