"""`jiuzhu demo` and the synthetic submissions (fictitious people, Faker zh_CN) that the demo,
the tests and the benchmarks are made of."""
