namespace Orchestrator.Distillation;

/// <summary>
/// Input the user can fix (a missing dataset, a malformed file, a bad configuration value).
/// The message says what is wrong, where, and how to fix it; commands turn it into exit code 2.
/// </summary>
public class UserInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A dataset's files are not where a run looks for them: bad input to a command run by hand, but the machine's failure
/// when a node lacks them (the job is retried, and runs once they are installed).
/// </summary>
public sealed class MissingDatasetException(string message) : UserInputException(message);

/// <summary>
/// A file a sweep submitted over the API names lies outside the folders the coordinator may read
/// (<see cref="Configuration.ReadableRoots"/>): the API answers PERMISSION_DENIED, with the path and the flag that allows it.
/// </summary>
public sealed class PathNotAllowedException(string message) : UserInputException(message);
