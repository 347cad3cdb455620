"""cbec_sem: structural equation models of supply-chain innovation in cross-border e-commerce."""
