using System.Diagnostics;

using Orchestrator.Tests;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package, which scripts/install-prerequisites.sh installs), started in a
/// temporary folder on a free loopback port for one test class and stopped after it. As root it runs as the postgres user.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    readonly string root;
    readonly string data;
    readonly string bin;

    public string ConnectionString { get; }

    public PostgresServer()
    {
        bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order().LastOrDefault()
              ?? throw new InvalidOperationException("no initdb under /usr/lib/postgresql; run scripts/install-prerequisites.sh")
            : throw new InvalidOperationException("PostgreSQL is not installed; run scripts/install-prerequisites.sh (apt-get install postgresql)");
        root = Path.Combine(Path.GetTempPath(), "orchestrator-postgres-" + Guid.NewGuid().ToString("N")[..8]);
        data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        if (Environment.UserName == "root") Run("chown", "postgres", root);
        int port = Loopback.FreePort();
        Postgres("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync");
        Postgres("pg_ctl", "-D", data, "-w", "-l", Path.Combine(root, "server.log"),
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c fsync=off", "start");
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";
    }

    public void Dispose()
    {
        Postgres("pg_ctl", "-D", data, "-m", "immediate", "stop");
        TestData.DeleteQuietly(root);
    }

    void Postgres(string tool, params string[] args)
    {
        string program = Path.Combine(bin, tool);
        if (Environment.UserName == "root") Run("runuser", ["-u", "postgres", "--", program, .. args]);
        else Run(program, args);
    }

    static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
    }

}
