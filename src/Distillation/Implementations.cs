namespace Orchestrator.Distillation;

/// <summary>What the registries are made of: one instance of every concrete subclass of a base in this assembly, so an entry is one file.</summary>
public static class Implementations
{
    /// <summary>One instance of each concrete subclass of <typeparamref name="T"/> (each has a parameterless constructor).</summary>
    public static IEnumerable<T> Of<T>() where T : class => typeof(T).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(T)) && !t.IsAbstract)
        .Select(t => (T)Activator.CreateInstance(t, nonPublic: true)!);
}
