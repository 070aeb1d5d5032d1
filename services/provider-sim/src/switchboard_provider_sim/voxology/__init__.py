"""Voxology simulator (``voxology.md``): ``POST /v1/Dials/Connect`` and the call-flow loop."""
