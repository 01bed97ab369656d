"""What supervisors watch: monthly reporting compliance and the risk ranking of where to inspect next."""
