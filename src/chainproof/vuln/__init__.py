"""Advisory database, feeds (MSRC CVRF, OSV), matching and scan reports."""
