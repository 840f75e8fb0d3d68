using System.CommandLine;
using Orchestrator.Distillation.Data;

namespace Orchestrator.Coordinator.Commands;

/// <summary>
/// --data-dir, on every command that reads datasets: their root folder for this run, as $ORCHESTRATOR_DATA_DIR would
/// set it. A sweep or trial file's own data_dir still wins: it is part of the trials' identity, which a flag must not change.
/// </summary>
public sealed class DataDirOption : Option<DirectoryInfo?>
{
    public DataDirOption() : base("--data-dir") =>
        Description = $"Root folder of datasets (each in <root>/<name>/), for files that give no data_dir; default ${DataOptions.DataDirVariable}, else {DataOptions.DefaultRoot}.";

    /// <summary>Makes the flag, when given, the root every dataset without data_dir is looked for in (in-process nodes included).</summary>
    public void Apply(ParseResult parse)
    {
        if (parse.GetValue(this) is { } directory) Environment.SetEnvironmentVariable(DataOptions.DataDirVariable, directory.FullName);
    }
}
