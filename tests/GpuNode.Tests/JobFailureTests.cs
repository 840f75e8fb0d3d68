using Orchestrator.Distillation;
using Orchestrator.Protocol.V1;
using Shouldly;

namespace Orchestrator.GpuNode.Tests;

/// <summary>Whose failure a job's exception was: the machine's is retried when the sweep is submitted again, the trial's is not.</summary>
public sealed class JobFailureTests
{
    static readonly JobSpec Job = new() { SweepId = "s", JobId = "trial-1" };

    [Fact]
    public void The_disk_filling_memory_running_out_and_io_errors_are_the_machines_and_bad_settings_are_the_trials()
    {
        var diskFull = JobFailure.Of(Job, new IOException("No space left on device : '/runs/trials/trial-1/last.ckpt'"));
        (diskFull.Status, diskFull.Environmental, diskFull.FailureReason).ShouldBe((TrialStatus.Failed, true, "No space left on device : '/runs/trials/trial-1/last.ckpt'"));
        JobFailure.IsEnvironmental(new OutOfMemoryException()).ShouldBeTrue();
        JobFailure.IsEnvironmental(new System.Runtime.InteropServices.ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB")).ShouldBeTrue(); // a device too small, not the trial
        JobFailure.IsEnvironmental(new InvalidOperationException("writing the checkpoint failed", new IOException("I/O error"))).ShouldBeTrue();
        JobFailure.IsEnvironmental(new UserInputException("model: unknown model 'mlp-x'", new IOException("not found"))).ShouldBeFalse();
        JobFailure.IsEnvironmental(new ArgumentException("shape mismatch")).ShouldBeFalse();
    }

    [Fact]
    public void A_dataset_missing_on_the_node_is_the_machines_failure_and_names_where_it_was_looked_for()
    {
        string root = Orchestrator.Tests.TestData.TemporaryDirectory();
        var error = Should.Throw<MissingDatasetException>(() =>
            Distillation.Data.DatasetRegistry.Get("mnist").Locate(new Distillation.Data.DataOptions("mnist", DataDir: root)));
        error.Message.ShouldStartWith($"dataset 'mnist' is not on this machine: {Path.Combine(root, "mnist")} does not exist (the datasets' root {root} is the file's data_dir; ");
        JobFailure.Of(Job, error).Environmental.ShouldBeTrue(); // retried, and runs once the files are installed
    }
}
