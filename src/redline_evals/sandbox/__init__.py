"""The sandbox layer: what runs inside a sandbox as root (`inside/`), the host's client for it,
the models of what it answers, and the per-sample store. Everything above builds on this;
this imports nothing else of redline_evals."""
