"""The version, in a module of its own: every module that records it (SBOMs, SARIF, audit entries,
the User-Agent) imports it from here, not from the package root, which imports the public API."""

__version__ = "0.1.0"
