// Training reseeds libtorch's global generator per epoch; tests that compare two runs must not interleave with others.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
