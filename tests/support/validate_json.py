"""Validates a JSON document against a JSON Schema (draft 2020-12) with python3-jsonschema.

usage: validate_json.py SCHEMA DOCUMENT; prints one line per violation (path: message) and
exits 1 when there is any. References to the other schemas beside SCHEMA (by their $id)
resolve to those files, never to the network."""
import glob
import json
import os
import sys
import warnings

import jsonschema

schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
store = {}
for path in glob.glob(os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "*.schema.json")):
    other = json.load(open(path))
    jsonschema.Draft202012Validator.check_schema(other)
    store[other["$id"]] = other
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver: the API Debian 12's jsonschema has
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
validator = jsonschema.Draft202012Validator(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
for e in errors:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message)
sys.exit(1 if errors else 0)
