"""The check rules (one function per rule id) and the gate that runs them."""
