using System.CommandLine;
using Orchestrator.Distillation;

namespace Orchestrator.Coordinator.Commands;

/// <summary>Exit codes and error reporting shared by every command.</summary>
public static class CommandLineRunner
{
    public const int Ok = 0;
    public const int TrialFailed = 1;
    /// <summary>Bad input: a wrong flag, a malformed file, an unknown name. Nothing was changed.</summary>
    public const int BadInput = 2;
    /// <summary>The coordinator's API could not be reached.</summary>
    public const int Unreachable = 3;
    public const int Cancelled = 130;

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        if (UnknownCommand(root, args) is { } unknown)
        {
            Console.Error.WriteLine($"error: {unknown}");
            return BadInput;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for usage.");
            return BadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UserInputException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (CoordinatorUnreachableException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Unreachable;
        }
        catch (Grpc.Core.RpcException e)
        {
            Console.Error.WriteLine($"error: the coordinator answered {e.StatusCode}: {e.Status.Detail}");
            return TrialFailed;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled.");
            return Cancelled;
        }
    }

    /// <summary>
    /// One error for a first word that is no command (<c>valdate</c>), with the nearest command and the list, instead of
    /// the parser's two ("unrecognized", "required command was not provided") and no suggestion; null when it is one.
    /// </summary>
    static string? UnknownCommand(RootCommand root, string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-')) return null;
        var names = root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        if (root.Subcommands.Any(c => c.Name == args[0] || c.Aliases.Contains(args[0]))) return null;
        return $"'{args[0]}' is not a command{Suggest.Nearest(args[0], names)}; the commands are {string.Join(", ", names)} (orchestrator --help says what each does).";
    }
}
