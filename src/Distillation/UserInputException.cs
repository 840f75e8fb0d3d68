namespace Orchestrator.Distillation;

/// <summary>
/// Input the user can fix (a missing dataset, a malformed file, a bad configuration value).
/// The message says what is wrong, where, and how to fix it; commands turn it into exit code 2.
/// </summary>
public sealed class UserInputException(string message, Exception? inner = null) : Exception(message, inner);
