using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Orchestrator.Tests;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// A page open in Debian's headless chromium, driven over the DevTools protocol (as Playwright drives it): it stays
/// open while the test reads its DOM, so what its scripts change over time can be seen. Console warnings, errors and
/// uncaught exceptions are collected.
/// </summary>
sealed class ChromiumPage : IAsyncDisposable
{
    readonly Process process;
    readonly ClientWebSocket socket = new();
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> pending = new();
    readonly ConcurrentQueue<string> console = new();
    readonly CancellationTokenSource closing = new();
    Task reading = Task.CompletedTask;
    int nextId;

    ChromiumPage(Process process) => this.process = process;

    /// <summary>What the console said at warning level or above, and any uncaught exception.</summary>
    public IReadOnlyList<string> Console => console.ToList();

    public static async Task<ChromiumPage> OpenAsync(string url, CancellationToken cancellation)
    {
        int port = Loopback.FreePort();
        var start = new ProcessStartInfo(HeadlessChromium.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={TestData.TemporaryDirectory()}",
                     $"--remote-debugging-port={port}", "--window-size=1200,2400", "about:blank" })
            start.ArgumentList.Add(argument);
        var page = new ChromiumPage(Process.Start(start)!);
        page.process.OutputDataReceived += (_, _) => { };
        page.process.ErrorDataReceived += (_, _) => { };
        page.process.BeginOutputReadLine();
        page.process.BeginErrorReadLine();
        await page.socket.ConnectAsync(new Uri(await DebuggerUrl(port, cancellation)), cancellation);
        page.reading = page.ReadAsync();
        await page.SendAsync("Runtime.enable", new { }, cancellation);
        await page.SendAsync("Log.enable", new { }, cancellation);
        await page.SendAsync("Page.navigate", new { url }, cancellation);
        return page;
    }

    /// <summary>The page target's DevTools socket, once chromium lists it.</summary>
    static async Task<string> DebuggerUrl(int port, CancellationToken cancellation)
    {
        using var http = new HttpClient();
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(200, cancellation))
        {
            try
            {
                using var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list", cancellation));
                foreach (var target in targets.RootElement.EnumerateArray())
                    if (target.GetProperty("type").GetString() == "page") return target.GetProperty("webSocketDebuggerUrl").GetString()!;
            }
            catch (HttpRequestException) when (waited.Elapsed < TimeSpan.FromSeconds(30))
            {
            }
        }
    }

    /// <summary>The value of a JavaScript expression on the page, as text (null for null or undefined).</summary>
    public async Task<string?> EvaluateAsync(string expression, CancellationToken cancellation)
    {
        var reply = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true }, cancellation);
        return reply.GetProperty("result").TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;
    }

    /// <summary>A PNG of what the page shows now.</summary>
    public async Task ScreenshotAsync(string png, CancellationToken cancellation)
    {
        var reply = await SendAsync("Page.captureScreenshot", new { format = "png", captureBeyondViewport = true }, cancellation);
        await File.WriteAllBytesAsync(png, Convert.FromBase64String(reply.GetProperty("data").GetString()!), cancellation);
    }

    async Task<JsonElement> SendAsync(string method, object parameters, CancellationToken cancellation)
    {
        int id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        byte[] message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellation);
        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellation);
    }

    async Task ReadAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, closing.Token);
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage) continue;
                using (var document = JsonDocument.Parse(message.ToArray())) Handle(document.RootElement.Clone());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    void Handle(JsonElement message)
    {
        if (message.TryGetProperty("id", out var id) && pending.TryRemove(id.GetInt32(), out var reply))
        {
            if (message.TryGetProperty("error", out var error)) reply.SetException(new InvalidOperationException(error.ToString()));
            else reply.SetResult(message.GetProperty("result"));
            return;
        }
        switch (message.TryGetProperty("method", out var method) ? method.GetString() : null)
        {
            case "Runtime.consoleAPICalled" when message.GetProperty("params").GetProperty("type").GetString() is "error" or "warning" or "assert":
            case "Runtime.exceptionThrown":
                console.Enqueue(message.GetProperty("params").ToString());
                break;
            case "Log.entryAdded" when message.GetProperty("params").GetProperty("entry").GetProperty("level").GetString() is "error" or "warning":
                console.Enqueue(message.GetProperty("params").GetProperty("entry").ToString());
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync();
        try { await reading; } catch (OperationCanceledException) { }
        socket.Dispose();
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
