using Orchestrator.Distillation.Data;

namespace Orchestrator.Distillation.Models;

/// <summary>
/// A family of architectures a trial can name: its name pattern (<c>mlp-&lt;width&gt;[-&lt;width&gt;...]</c>, or a fixed
/// set of names), how to check a name without building anything, its builder, and how many of its students train as
/// one pack on a CPU slot when a sweep's pack is auto. Each family is one file; <see cref="ModelRegistry"/> finds them.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>How its names are written, for lists of known models (<c>mlp-&lt;width&gt;[-&lt;width&gt;...]</c>).</summary>
    public abstract IEnumerable<string> Patterns { get; }

    /// <summary>What the family is, in a line, for <c>orchestrator models</c>.</summary>
    public abstract string Summary { get; }

    /// <summary>A few names it takes, for "did you mean" suggestions and <c>orchestrator models</c>.</summary>
    public abstract IEnumerable<string> Examples { get; }

    /// <summary>Where it is listed among the families: lower first.</summary>
    public abstract int ListOrder { get; }

    /// <summary>Whether the name is one of this family's (its options are checked by <see cref="Validate"/>).</summary>
    public abstract bool Matches(string name);

    /// <summary>Whether the spec is one of this family's: by its name, unless it names a file.</summary>
    public virtual bool Matches(ModelSpec spec) => spec.TorchScript is null && Matches(spec.Name);

    /// <summary>Checks the name's parameters without building anything, so a bad file fails before data is loaded.</summary>
    public virtual void Validate(ModelSpec spec) { }

    public abstract Classifier Create(ModelSpec spec, DatasetInfo data);

    /// <summary>
    /// How many of its students a sweep's <c>pack: auto</c> trains as one on a CPU slot. Measured on 2 cores
    /// (docs/benchmarks.md, packs): MLPs gain up to 8; a convolutional model already fills the cores (1).
    /// </summary>
    public virtual int AutoPackOnCpu => 1;

    /// <summary>Whether its students may share a pack at all (a sweep's <c>pack: N</c> included).</summary>
    public virtual bool Packs => true;

    /// <summary>Its parameters for this dataset (built once on the CPU and counted).</summary>
    public long Parameters(ModelSpec spec, DatasetInfo data)
    {
        using var model = Create(spec, data);
        return model.parameters().Sum(p => p.numel());
    }
}
