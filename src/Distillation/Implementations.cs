namespace Orchestrator.Distillation;

/// <summary>What the registries are made of: one instance of every concrete subclass of a base in this assembly, so an entry is one file.</summary>
public static class Implementations
{
    /// <summary>
    /// One instance of each concrete subclass of <typeparamref name="T"/> with a parameterless constructor; a subclass
    /// built from a file's settings (a dataset of the user's own tensor files) is made where those settings are read.
    /// </summary>
    public static IEnumerable<T> Of<T>() where T : class => typeof(T).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(T)) && !t.IsAbstract && t.GetConstructor(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic, Type.EmptyTypes) is not null)
        .Select(t => (T)Activator.CreateInstance(t, nonPublic: true)!);
}
