# The policy services (pkg/policy, docs/responding.md).
# policy-fuzz (in make test): arbitrary bytes through the Postfix policy
# request reader, a count budget (about 5 s); bench-policy: the answer
# latency benchmarks (p50/p99 per answer over loopback).
POLICY_FUZZTIME ?= 50000x

.PHONY: policy-fuzz bench-policy
TEST_TARGETS += policy-fuzz

policy-fuzz:
	$(GO) test ./pkg/policy -run '^$$' -fuzz '^FuzzReadPostfixRequest$$' -fuzztime $(POLICY_FUZZTIME)

bench-policy:
	$(GO) test ./pkg/policy -run '^$$' -bench . -benchtime 20000x -count 3
