"""Layer 1: run untrusted code behind one interface (process, bubblewrap and Docker backends)."""
