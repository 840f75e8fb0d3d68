using Orchestrator.Coordinator.Commands;
using Orchestrator.Coordinator.Planning;
using Orchestrator.Distillation;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary><c>orchestrator fork</c>: a new sweep file from a submitted one with changes, planned as the changes say.</summary>
public sealed class ForkCommandTests
{
    const string Original = """
        # a grid over alpha
        name: fork-me
        dataset: { name: synthetic, validation: 200 }
        teacher: { model: mlp-64, epochs: 2 }
        student: { model: mlp-16, epochs: 2, loss: { terms: [ce, hinton], alpha: 0.5, temperature: 4 } }
        parameters:
          alpha: { values: [0.25, 0.75] }
        seeds: [1, 2]
        """;

    static SweepPlan Plan(string text, string path) => SweepPlanner.Plan(SweepFile.Parse(text, path), TestData.TemporaryDirectory());

    static HashSet<string> Students(SweepPlan plan) => plan.Students.Select(j => j.Id).ToHashSet();

    [Fact]
    public void A_fork_without_changes_plans_the_same_trials_and_forking_back_restores_them()
    {
        string path = TestData.WriteFile("fork-me.yaml", Original);
        var original = Plan(Original, path);

        string same = ForkCommand.Fork(Original, path, [], "fork-same");
        SweepFile.Parse(same, path).Name.ShouldBe("fork-same");
        Students(Plan(same, path)).ShouldBe(Students(original), ignoreOrder: true);
        same.ShouldStartWith("# forked from fork-me");

        string longer = ForkCommand.Fork(Original, path, ["student.epochs=3"], "fork-longer");
        var longerPlan = Plan(longer, path);
        longerPlan.Students.ShouldAllBe(j => j.Config!.Training.Epochs == 3);
        Students(longerPlan).ShouldNotContain(id => Students(original).Contains(id)); // every trial changed

        string back = ForkCommand.Fork(longer, path, ["student.epochs=2"], "fork-me");
        Students(Plan(back, path)).ShouldBe(Students(original), ignoreOrder: true);
    }

    [Fact]
    public void Adding_values_to_a_grid_keeps_every_trial_that_ran_and_adds_only_the_new_points()
    {
        string path = TestData.WriteFile("fork-me.yaml", Original);
        var original = Students(Plan(Original, path));
        string wider = ForkCommand.Fork(Original, path, ["parameters.alpha.values=[0.25, 0.5, 0.75]"], null);
        SweepFile.Parse(wider, path).Name.ShouldBe("fork-me-fork");
        var plan = Students(Plan(wider, path));
        plan.IsSupersetOf(original).ShouldBeTrue(); // what ran is reused: the same trials
        plan.Count.ShouldBe(original.Count + 2); // one new point, two seeds
    }

    [Fact]
    public void Bad_changes_are_refused_with_what_to_write()
    {
        string path = TestData.WriteFile("fork-me.yaml", Original);
        Should.Throw<UserInputException>(() => ForkCommand.Fork(Original, path, ["student.epochs"], null)).Message.ShouldContain("write key=value");
        Should.Throw<UserInputException>(() => ForkCommand.Fork(Original, path, ["student..epochs=3"], null)).Message.ShouldContain("not a dotted path");
        Should.Throw<UserInputException>(() => ForkCommand.Fork(Original, path, ["student.epochs=[1,"], null)).Message.ShouldContain("is not YAML");
    }

    [Fact]
    public async Task The_command_writes_a_valid_fork_once_and_refuses_an_invalid_one_writing_nothing()
    {
        string path = TestData.WriteFile("fork-me.yaml", Original);
        string output = Path.Combine(Path.GetDirectoryName(path)!, "forked.yaml");
        var (code, stdout, stderr) = await OrchestratorProcess.RunAsync("fork", path, "--set", "student.epochs=3", "--name", "forked", "--output", output);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain($"forked: written to {output}");
        SweepFile.Load(output).Name.ShouldBe("forked");

        (code, _, stderr) = await OrchestratorProcess.RunAsync("fork", path, "--name", "forked", "--output", output);
        code.ShouldBe(2);
        stderr.ShouldContain("exists; give another --output");

        string invalid = Path.Combine(Path.GetDirectoryName(path)!, "invalid.yaml");
        (code, _, stderr) = await OrchestratorProcess.RunAsync("fork", path, "--set", "student.epochs=0", "--output", invalid);
        code.ShouldBe(2);
        stderr.ShouldContain("epochs");
        File.Exists(invalid).ShouldBeFalse();
    }
}
