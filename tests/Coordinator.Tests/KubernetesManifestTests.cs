using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Orchestrator.Coordinator.Commands;
using Orchestrator.Tests;
using Shouldly;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Coordinator.Tests;

/// <summary>
/// deploy/k8s without an API server (none can run here): every object parses strictly into the Kubernetes models
/// (an unknown field or a wrong type fails), the overlays' patches apply to the base, every container's arguments
/// parse with the orchestrator's own CLI, and names, ports, volumes and secrets refer to what exists.
/// </summary>
public partial class KubernetesManifestTests
{
    static readonly string K8s = Path.Combine(TestData.RepositoryRoot(), "deploy", "k8s");

    static YamlMappingNode Kustomization(string folder)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(K8s, folder, "kustomization.yaml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlSequenceNode)value).Children : [];

    /// <summary>The base's objects, strictly typed, in its kustomization's order.</summary>
    static List<IKubernetesObject> Base() => Sequence(Kustomization("base"), "resources")
        .SelectMany(file => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(K8s, "base", file.ToString())), strict: true))
        .Cast<IKubernetesObject>().ToList();

    /// <summary>
    /// The base with an overlay's JSON 6902 patches applied (add and replace, which is all the overlays use), each
    /// patched object parsed strictly again. `kubectl kustomize deploy/k8s/overlays/...` renders the same where kubectl exists.
    /// </summary>
    static List<IKubernetesObject> Rendered(string overlay)
    {
        var kustomization = Kustomization(Path.Combine("overlays", overlay));
        Sequence(kustomization, "resources").Select(r => r.ToString()).ShouldBe(["../../base"]);
        var objects = Base();
        foreach (YamlMappingNode patch in Sequence(kustomization, "patches"))
        {
            var target = (YamlMappingNode)patch["target"];
            int index = objects.FindIndex(o => o.Kind == target["kind"].ToString() && ((IMetadata<V1ObjectMeta>)o).Metadata.Name == target["name"].ToString());
            index.ShouldBeGreaterThanOrEqualTo(0, $"overlay {overlay} patches {target["kind"]} {target["name"]}, which the base lacks");
            var json = JsonNode.Parse(KubernetesJson.Serialize(objects[index]))!;
            var operations = new YamlStream();
            operations.Load(new StringReader(patch["patch"].ToString()));
            foreach (YamlMappingNode operation in ((YamlSequenceNode)operations.Documents[0].RootNode).Children)
                Apply(json, operation["op"].ToString(), operation["path"].ToString(), JsonNode.Parse(ToJson(operation["value"])));
            objects[index] = (IKubernetesObject)KubernetesYaml.LoadAllFromString(json.ToJsonString(), strict: true).Single(); // JSON is YAML
        }
        return objects;
    }

    static void Apply(JsonNode document, string op, string path, JsonNode? value)
    {
        var segments = path.TrimStart('/').Split('/');
        var parent = segments[..^1].Aggregate(document, (node, segment) => int.TryParse(segment, out int i) ? node[i]! : node[segment]!);
        op.ShouldBeOneOf("add", "replace");
        if (op == "replace") parent[segments[^1]].ShouldNotBeNull($"replace {path}: nothing there to replace");
        parent[segments[^1]] = value;
    }

    /// <summary>A YAML value as JSON (scalars that read as numbers stay numbers, as in kustomize).</summary>
    static string ToJson(YamlNode node) => node switch
    {
        YamlScalarNode { Style: not (YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) } s when double.TryParse(s.Value, out _) => s.Value!,
        YamlScalarNode s => JsonValue.Create(s.Value)!.ToJsonString(),
        YamlSequenceNode s => $"[{string.Join(",", s.Children.Select(ToJson))}]",
        YamlMappingNode m => $"{{{string.Join(",", m.Children.Select(c => $"{JsonValue.Create(c.Key.ToString())!.ToJsonString()}:{ToJson(c.Value)}"))}}}",
        _ => "null",
    };

    static IEnumerable<(string Workload, V1PodTemplateSpec Pod)> Pods(IEnumerable<IKubernetesObject> objects) => objects.SelectMany(o => o switch
    {
        V1StatefulSet s => [(s.Metadata.Name, s.Spec.Template)],
        V1Deployment d => [(d.Metadata.Name, d.Spec.Template)],
        _ => Array.Empty<(string, V1PodTemplateSpec)>(),
    });

    static string Env(V1Container container, string name) =>
        container.Env.SingleOrDefault(e => e.Name == name)?.Value ?? throw new ShouldAssertException($"{container.Name} sets no {name}");

    [Fact]
    public void Every_base_manifest_is_a_valid_kubernetes_object_and_the_kustomization_lists_them_all()
    {
        Sequence(Kustomization("base"), "resources").Select(r => r.ToString()).Order()
            .ShouldBe(Directory.GetFiles(Path.Combine(K8s, "base"), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order());
        Base().Select(o => o.Kind).Order().ShouldBe(["Deployment", "PersistentVolumeClaim", "Service", "Service", "Service", "StatefulSet", "StatefulSet"]);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cpu")]
    public void Each_overlays_patches_apply_to_the_base_and_its_images_and_replicas_name_what_exists(string overlay)
    {
        var objects = Rendered(overlay);
        var kustomization = Kustomization(Path.Combine("overlays", overlay));
        foreach (YamlMappingNode image in Sequence(kustomization, "images"))
            Pods(objects).ShouldContain(p => p.Pod.Spec.Containers.Any(c => c.Image == image["name"].ToString()));
        foreach (YamlMappingNode replicas in Sequence(kustomization, "replicas"))
            Pods(objects).ShouldContain(p => p.Workload == replicas["name"].ToString());
        var node = Pods(objects).Single(p => p.Workload == "orchestrator-gpunode").Pod.Spec.Containers.Single();
        if (overlay == "gpu") node.Resources.Limits["nvidia.com/gpu"].ToString().ShouldBe("1");
        else node.Args.ShouldContain("cpu");
    }

    [GeneratedRegex(@"\$\((\w+)\)")]
    private static partial Regex EnvironmentReference();

    [Theory]
    [InlineData("gpu")]
    [InlineData("cpu")]
    public void Every_orchestrator_container_passes_arguments_and_variables_the_cli_accepts(string overlay)
    {
        string sources = string.Concat(Directory.GetFiles(Path.Combine(TestData.RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        var containers = Pods(Rendered(overlay)).SelectMany(p => p.Pod.Spec.Containers).Where(c => c.Image.Contains("orchestrator")).ToList();
        containers.Count.ShouldBe(2);
        foreach (var container in containers)
        {
            // Kubernetes expands $(NAME) in args and env values from the container's earlier variables.
            var args = container.Args.Select(a => EnvironmentReference().Replace(a, m =>
            {
                container.Env.ShouldContain(e => e.Name == m.Groups[1].Value, $"{container.Name}: {a} refers to an unset variable");
                return "value-of-" + m.Groups[1].Value;
            })).ToArray();
            var parse = OrchestratorCli.Create().Parse(args);
            parse.Errors.Select(e => e.Message).ShouldBeEmpty($"{container.Name}: {string.Join(" ", container.Args)}");
            foreach (var variable in container.Env.Where(e => e.Name.StartsWith("ORCHESTRATOR_", StringComparison.Ordinal)))
                sources.ShouldContain($"\"{variable.Name}\"", customMessage: $"{container.Name} sets {variable.Name}, which the orchestrator never reads");
        }
    }

    [Fact]
    public void Nodes_find_the_coordinator_and_every_reference_names_what_exists()
    {
        var objects = Base();
        var services = objects.OfType<V1Service>().ToList();
        var coordinator = objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "orchestrator-coordinator");
        var serve = coordinator.Spec.Template.Spec.Containers.Single();
        var node = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();

        // The seed node is the coordinator pod's stable name under its headless service, on its Akka port.
        var headless = services.Single(s => s.Metadata.Name == coordinator.Spec.ServiceName);
        headless.Spec.ClusterIP.ShouldBe("None");
        Env(serve, "ORCHESTRATOR_HOSTNAME").ShouldBe("$(POD_NAME)." + coordinator.Spec.ServiceName);
        string akka = Env(serve, "ORCHESTRATOR_PORT");
        Env(node, "ORCHESTRATOR_SEED_NODES").ShouldBe($"akka.tcp://{Hosting.NodeSettings.SystemName}@{coordinator.Metadata.Name}-0.{coordinator.Spec.ServiceName}:{akka}");

        // The nodes stream metrics to the API service, which reaches the coordinator's gRPC port.
        var api = new Uri(Env(node, "ORCHESTRATOR_API"));
        var apiService = services.Single(s => s.Metadata.Name == api.Host);
        apiService.Spec.Selector.ShouldBe(coordinator.Spec.Template.Metadata.Labels);
        apiService.Spec.Ports.Single(p => p.Port == api.Port).TargetPort.Value.ShouldBe(Env(serve, "ORCHESTRATOR_GRPC_PORT"));

        // Every service selects a workload's pods and targets ports its container opens.
        foreach (var service in services)
        {
            var pods = Pods(objects).Where(p => service.Spec.Selector.All(l => p.Pod.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
            pods.Count.ShouldBe(1, $"service {service.Metadata.Name} selects {pods.Count} workloads");
            foreach (var port in service.Spec.Ports)
                pods[0].Pod.Spec.Containers.SelectMany(c => c.Ports).ShouldContain(p => p.ContainerPort.ToString() == port.TargetPort.Value, $"{service.Metadata.Name}:{port.Port}");
        }

        // Volumes, secrets and the Prometheus annotations.
        var claims = objects.OfType<V1PersistentVolumeClaim>().Select(c => c.Metadata.Name).ToList();
        foreach (var (workload, pod) in Pods(objects))
        {
            foreach (var volume in pod.Spec.Volumes ?? [])
                claims.ShouldContain(volume.PersistentVolumeClaim.ClaimName, $"{workload} mounts a claim that does not exist");
            foreach (var secret in pod.Spec.Containers.SelectMany(c => c.Env).Where(e => e.ValueFrom?.SecretKeyRef is not null).Select(e => e.ValueFrom.SecretKeyRef))
                (secret.Name, secret.Key).ShouldBeOneOf(("orchestrator", "token"), ("orchestrator", "postgres-password"));
            if (pod.Metadata.Annotations?.TryGetValue("prometheus.io/port", out var metrics) == true)
                Env(pod.Spec.Containers.Single(), "ORCHESTRATOR_METRICS_PORT").ShouldBe(metrics);
        }
        File.ReadAllText(Path.Combine(K8s, "README.md"))
            .ShouldContain("kubectl create secret generic orchestrator --from-literal=token=\"$(openssl rand -hex 32)\" --from-literal=postgres-password=");
    }
}
