using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orchestrator.Tests;
using Shouldly;

namespace Orchestrator.Coordinator.Tests;

/// <summary>The API over TLS: a real coordinator process serving a self-signed certificate, and the CLI trusting it (or not).</summary>
public class TlsApiTests
{
    /// <summary>A self-signed certificate for 127.0.0.1, as PEM certificate and key files.</summary>
    static (string Certificate, string Key) SelfSigned(string directory)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certificateFile = Path.Combine(directory, "cert.pem"), keyFile = Path.Combine(directory, "key.pem");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }

    [Fact]
    public async Task The_cli_talks_to_a_tls_coordinator_only_when_it_trusts_its_certificate()
    {
        string directory = TestData.TemporaryDirectory();
        var (certificate, key) = SelfSigned(directory);
        int grpcPort = Loopback.FreePort();
        using var coordinator = RunningProcess.Start("serve", "--port", Loopback.FreePort().ToString(), "--grpc-port", grpcPort.ToString(),
            "--out", Path.Combine(directory, "out"), "--tls-cert", certificate, "--tls-key", key);
        await coordinator.WaitForOutput("gRPC API on port", TimeSpan.FromMinutes(1));
        coordinator.Output.ShouldContain("(TLS, no token)");
        string endpoint = $"https://127.0.0.1:{grpcPort}";

        var (code, output, error) = await OrchestratorProcess.RunAsync("status", "--endpoint", endpoint, "--ca-file", certificate);
        code.ShouldBe(0, error + coordinator.Output);
        output.ShouldContain("no sweeps yet");

        (code, _, error) = await OrchestratorProcess.RunAsync("status", "--endpoint", endpoint); // the certificate is not trusted
        code.ShouldBe(3);
        error.ShouldContain("--ca-file");
        (code, _, _) = await OrchestratorProcess.RunAsync("status", "--endpoint", $"http://127.0.0.1:{grpcPort}"); // plaintext to a TLS port
        code.ShouldBe(3);
    }
}
