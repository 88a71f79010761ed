"""The only package that imports ruamel.yaml: split, construct, partial parse, emit, locate."""
