"""The verifiable ledger's pure core (transparency log): canonical JSON, RFC 9162 Merkle hashing
and proofs, C2SP tiles, signed notes, checkpoints, cosignatures, the witness rule, leaf
envelopes, proof bundles and the offline verifier. May import: the standard library,
``cryptography`` and other ``services.tlog`` modules, nothing else, so that the offline verifier
runs on an auditor's laptop with no access to (or code of) the platform.

Nothing here touches a store, the network or the clock: the callers (the ledger projection, the
witness's HTTP route, the CLI) give state, keys and time in, and persist what comes out.
"""
