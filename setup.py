"""
The build of the C accelerator of the audit walk (audit/_walk.c); everything else is in
pyproject.toml. The extension is optional: without a compiler or OpenSSL's headers (Debian's
libssl-dev) the install goes on and the verifier walks in Python.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "audit._walk",
            sources=["audit/_walk.c"],
            libraries=["crypto"],
            optional=True,
        )
    ]
)
