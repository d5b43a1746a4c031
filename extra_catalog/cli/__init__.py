"""Command-line entry points.

Every command is a thin click wrapper over library functions. Heavy
libraries (h5py, pandas, xarray, zmq) are imported inside the commands, so
``import extra_catalog.cli`` stays cheap and ``--help`` is instant.
"""
