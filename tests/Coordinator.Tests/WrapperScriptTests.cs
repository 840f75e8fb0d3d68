using System.Diagnostics;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// The checkout's <c>./orchestrator</c> wrapper decides when to build. It runs here on a copy of the checkout's layout
/// with a stand-in <c>dotnet</c> first on PATH that records each call (a real Release build takes minutes; what is
/// under test is the script's decision, not the compiler).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a bash script
public sealed class WrapperScriptTests
{
    readonly string root = TestData.TemporaryDirectory();
    readonly string calls;

    public WrapperScriptTests()
    {
        File.Copy(Path.Combine(TestData.RepositoryRoot(), "orchestrator"), Path.Combine(root, "orchestrator"));
        foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json" }) File.WriteAllText(Path.Combine(root, file), "");
        Directory.CreateDirectory(Path.Combine(root, "build"));
        Write("src/Coordinator/Program.cs");
        Write("src/Coordinator/obj/Debug/net10.0/Generated.AssemblyInfo.cs");
        calls = Path.Combine(root, "dotnet-calls");
        string fake = Path.Combine(root, "fake-bin", "dotnet");
        Directory.CreateDirectory(Path.GetDirectoryName(fake)!);
        // "build" fails when FAIL_BUILD is set and otherwise writes the binary only when it is missing, as an up-to-date build leaves it alone.
        File.WriteAllText(fake, $$"""
            #!/usr/bin/env bash
            echo "$1" >> {{calls}}
            if [[ $1 == build ]]; then
              [[ -n ${FAIL_BUILD:-} ]] && { echo "error CS1002: ; expected"; exit 1; }
              out={{root}}/src/Coordinator/bin/Release/net10.0
              mkdir -p "$out"; [[ -f $out/orchestrator.dll ]] || echo binary > "$out/orchestrator.dll"
            fi
            exit 0
            """);
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    void Write(string relative)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "// " + Guid.NewGuid()); // newer than a stamp written before: find compares times to the nanosecond
    }

    async Task<(string Error, string[] Calls)> Run(bool failBuild = false)
    {
        File.Delete(calls);
        var info = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(root, "orchestrator"));
        info.ArgumentList.Add("--help");
        info.Environment["PATH"] = $"{Path.Combine(root, "fake-bin")}:{Environment.GetEnvironmentVariable("PATH")}";
        if (failBuild) info.Environment["FAIL_BUILD"] = "1";
        using var process = Process.Start(info)!;
        string error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        (process.ExitCode == 0).ShouldBe(!failBuild, error);
        return (error, File.Exists(calls) ? File.ReadAllLines(calls) : []);
    }

    [Fact]
    public async Task Builds_once_then_only_when_a_source_outside_bin_and_obj_is_newer_than_the_last_successful_build()
    {
        var first = await Run();
        first.Calls.ShouldBe(["build", Path.Combine(root, "src/Coordinator/bin/Release/net10.0/orchestrator.dll")]);
        first.Error.ShouldContain("building orchestrator");

        var second = await Run();
        second.Calls.Length.ShouldBe(1); // only the run
        second.Error.ShouldNotContain("building");

        Write("src/Coordinator/obj/Debug/net10.0/Generated.AssemblyInfo.cs"); // what a Debug build of the tests leaves behind
        Write("src/Coordinator/bin/Debug/net10.0/orchestrator.deps.json");
        (await Run()).Calls.Length.ShouldBe(1);

        Write("src/Coordinator/Program.cs");
        var edited = await Run();
        edited.Calls[0].ShouldBe("build");
        (await Run()).Calls.Length.ShouldBe(1); // an up-to-date build did not touch the binary, and the stamp still says it is current
    }

    [Fact]
    public async Task A_failed_build_prints_its_errors_runs_nothing_and_builds_again_next_time()
    {
        (await Run()).Calls[0].ShouldBe("build");
        Write("src/Coordinator/Program.cs");
        var failed = await Run(failBuild: true);
        failed.Error.ShouldContain("error CS1002");
        failed.Calls.ShouldBe(["build"]);
        (await Run()).Calls[0].ShouldBe("build");
    }
}
