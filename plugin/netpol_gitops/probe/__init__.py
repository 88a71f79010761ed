"""`probe`: manifests that prove in a live cluster what the analysis says: an enforcement canary,
one allow probe per declared connection, one deny probe per protected namespace. Pure."""
