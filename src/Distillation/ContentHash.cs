using System.Security.Cryptography;
using System.Text.Json;

namespace Orchestrator.Distillation;

/// <summary>Short content hashes of settings: equal settings give equal ids, in any process, on any machine.</summary>
public static class ContentHash
{
    /// <summary>The first 16 hex digits of the SHA-256 of <paramref name="value"/> as JSON.</summary>
    public static string Of(object value) => Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value)))[..16];
}
