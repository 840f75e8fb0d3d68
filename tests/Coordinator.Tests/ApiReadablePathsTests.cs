using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Orchestrator.Protocol.V1;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// A sweep submitted over the API reads files only under the coordinator's roots (--data-dir, the soft-target store,
/// --out, --allow-path): each hostile path gets a named error, never UNKNOWN, and the coordinator stays up. A real
/// `serve` process; nothing is planned, so no GPU node is needed.
/// </summary>
public sealed class ApiReadablePathsTests : IAsyncLifetime
{
    const string Token = "paths-token";
    readonly string directory = TestData.TemporaryDirectory();
    string Allowed => Path.Combine(directory, "allowed");
    string Outside => Path.Combine(directory, "outside");
    RunningProcess coordinator = null!;
    GrpcChannel channel = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Allowed);
        Directory.CreateDirectory(Outside);
        string tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, Token + "\n");
        int port = Loopback.FreePort(), grpcPort = Loopback.FreePort();
        coordinator = RunningProcess.Start("serve", "--port", port.ToString(), "--grpc-port", grpcPort.ToString(), "--out", Path.Combine(directory, "out"),
            "--soft-targets", Path.Combine(directory, "store"), "--token-file", tokenFile, "--allow-path", Allowed);
        await coordinator.WaitForOutput("gRPC API on port", TimeSpan.FromMinutes(1));
        channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
    }

    public ValueTask DisposeAsync()
    {
        channel.Dispose();
        coordinator.Dispose();
        return ValueTask.CompletedTask;
    }

    static string Sweep(string name, string teacher, string dataset = "{ name: synthetic, validation: 200 }") => $"""
        name: {name}
        dataset: {dataset}
        teacher: {teacher}
        student: {"{"} model: mlp-16, epochs: 1, loss: {"{"} terms: [ce, hinton], alpha: 0.5 {"}"} {"}"}
        seeds: [1]
        """;

    async Task<RpcException> Refused(string name, string sweep)
    {
        var request = new SubmitRequest { FileName = Path.Combine(directory, name + ".yaml"), Content = ByteString.CopyFromUtf8(sweep) };
        var client = new Protocol.V1.Sweeps.SweepsClient(channel);
        return await Should.ThrowAsync<RpcException>(async () => await client.SubmitAsync(request, [new Metadata.Entry("authorization", $"Bearer {Token}")],
            deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: TestContext.Current.CancellationToken));
    }

    static string Sparse(string path)
    {
        using var file = File.Create(path);
        file.SetLength(2L << 30); // 2 GiB of holes: no disk used
        return path;
    }

    static string Fifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", path)!;
        mkfifo.WaitForExit();
        return path;
    }

    [Fact]
    public async Task Paths_outside_the_roots_are_permission_denied_with_the_path_and_the_flag()
    {
        string link = Path.Combine(Allowed, "teacher.ckpt");
        File.CreateSymbolicLink(link, "/etc/passwd");
        var hostile = new Dictionary<string, string>
        {
            ["etc-passwd"] = "{ checkpoint: /etc/passwd }",
            ["device"] = "{ checkpoint: /dev/zero }",
            ["directory"] = "{ checkpoints: [/etc] }",
            ["fifo"] = $"{{ checkpoint: {Fifo(Path.Combine(Outside, "pipe"))} }}",
            ["proc-mem"] = "{ torchscript: /proc/self/mem, normalize: { mean: [0], std: [1] } }",
            ["proc-environ"] = "{ checkpoint: /proc/self/environ }",
            ["symlink-out"] = $"{{ checkpoint: {link} }}",
            ["dot-dot"] = $"{{ checkpoint: {Allowed}/../../../../../etc/shadow }}",
            ["sparse"] = $"{{ torchscript: {Sparse(Path.Combine(Outside, "big.pt"))}, normalize: {{ mean: [0], std: [1] }} }}",
        };
        foreach (var (name, teacher) in hostile)
        {
            var refused = await Refused(name, Sweep(name, teacher));
            refused.StatusCode.ShouldBe(StatusCode.PermissionDenied, $"{name}: {refused.Status.Detail}");
            refused.Status.Detail.ShouldContain("is outside the folders this coordinator reads sweeps' files from", customMessage: name);
            refused.Status.Detail.ShouldContain("--allow-path", customMessage: name);
            refused.Status.Detail.ShouldContain($"{name}.yaml:3:", customMessage: name); // where the path was written
        }
        (await Refused("symlink-out", Sweep("symlink-out", $"{{ checkpoint: {link} }}"))).Status.Detail.ShouldContain("(which is /etc/passwd)");

        foreach (var (name, dataset) in new Dictionary<string, string>
        {
            ["tensor-files"] = "{ train: /etc/passwd, test: /etc/passwd }",
            ["image-folder"] = "{ images: /etc, size: 32 }",
            ["data-dir"] = "{ name: fashion-mnist, data_dir: /root }",
        })
        {
            var refused = await Refused(name, Sweep(name, "{ model: mlp-64, epochs: 1 }", dataset));
            refused.StatusCode.ShouldBe(StatusCode.PermissionDenied, $"{name}: {refused.Status.Detail}");
        }
        await CoordinatorStillAnswers();
    }

    [Fact]
    public async Task Paths_inside_the_roots_that_are_not_data_get_invalid_argument_naming_them()
    {
        var cases = new Dictionary<string, (string Teacher, string Says)>
        {
            ["in-fifo"] = ($"{{ checkpoint: {Fifo(Path.Combine(Allowed, "pipe"))} }}", "is a FIFO (named pipe), not a file or a folder"),
            ["in-directory"] = ($"{{ checkpoint: {Directory.CreateDirectory(Path.Combine(Allowed, "folder")).FullName} }}", "does not exist"),
            ["in-missing"] = ($"{{ checkpoint: {Path.Combine(Allowed, "missing.ckpt")} }}", "does not exist"),
            ["in-sparse-checkpoint"] = ($"{{ checkpoint: {Sparse(Path.Combine(Allowed, "big.ckpt"))} }}", "big.ckpt is not an orchestrator checkpoint"),
            ["in-sparse-torchscript"] = ($"{{ torchscript: {Path.Combine(Allowed, "big.ckpt")}, normalize: {{ mean: [0], std: [1] }} }}", "big.ckpt"),
        };
        foreach (var (name, (teacher, says)) in cases)
        {
            var refused = await Refused(name, Sweep(name, teacher));
            refused.StatusCode.ShouldBe(StatusCode.InvalidArgument, $"{name}: {refused.Status.Detail}");
            refused.Status.Detail.ShouldContain(says, customMessage: name);
            refused.Status.Detail.ShouldContain($"{name}.yaml:3:", customMessage: name);
        }
        await CoordinatorStillAnswers();
    }

    [Fact]
    public async Task Validate_on_ones_own_machine_reads_any_path()
    {
        var sweepFile = TestData.WriteFile("own.yaml", Sweep("own", "{ checkpoint: /etc/passwd }"));
        var (code, _, error) = await OrchestratorProcess.RunAsync("validate", sweepFile);
        code.ShouldBe(2);
        error.ShouldNotContain("outside the folders");
        error.ShouldContain("/etc/passwd is not an orchestrator checkpoint"); // read, and found not to be one
    }

    async Task CoordinatorStillAnswers()
    {
        var client = new Protocol.V1.Sweeps.SweepsClient(channel);
        var sweeps = await client.ListAsync(new ListRequest(), [new Metadata.Entry("authorization", $"Bearer {Token}")], cancellationToken: TestContext.Current.CancellationToken);
        sweeps.Sweeps.ShouldBeEmpty(); // nothing was accepted
        coordinator.Process.HasExited.ShouldBeFalse();
    }
}
