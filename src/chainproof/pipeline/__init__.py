"""The verification pipeline: requirements → checks → one layer pass → policy → verdict."""
