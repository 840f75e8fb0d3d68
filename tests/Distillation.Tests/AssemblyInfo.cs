// Training reseeds libtorch's global generator per epoch; tests that compare two runs must not interleave with others.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

// The trained teachers several classes distil from: trained once per run, not once per class.
[assembly: Xunit.AssemblyFixture(typeof(Orchestrator.Distillation.Tests.TeacherFixture))]
