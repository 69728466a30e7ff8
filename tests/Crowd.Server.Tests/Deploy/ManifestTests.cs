using System.Reflection;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Orleans;
using Crowd.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Crowd.Server.Tests.Deploy;

/// <summary>The deployment files cannot run here (no Docker, no cluster), so they are parsed and held to what the server reads.</summary>
public sealed class ManifestTests
{
    private static readonly string s_deploy = Path.Combine(ServerProcess.RepositoryRoot, "deploy");

    private static List<YamlMappingNode> Documents(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static List<YamlMappingNode> Kubernetes() =>
        Directory.GetFiles(Path.Combine(s_deploy, "k8s"), "*.yaml").SelectMany(Documents).ToList();

    private static YamlMappingNode Kind(string kind, string name) =>
        Kubernetes().Single(d => S(d, "kind") == kind && S(d["metadata"], "name") == name);

    private static string? S(YamlNode node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;

    private static YamlNode At(YamlNode node, params string[] path) => path.Aggregate(node, (n, key) => ((YamlMappingNode)n)[key]);

    private static IEnumerable<YamlMappingNode> Items(YamlNode node) => ((YamlSequenceNode)node).Children.Cast<YamlMappingNode>();

    /// <summary>Whether an environment variable names a setting the server binds: its two connection strings or a CrowdOptions property path.</summary>
    private static bool ServerReads(string variable)
    {
        if (variable is "ConnectionStrings__Crowd" or "ConnectionStrings__CrowdOwner")
        {
            return true;
        }
        var parts = variable.Split("__");
        if (parts[0] != CrowdOptions.Section)
        {
            return false;
        }
        var type = typeof(CrowdOptions);
        foreach (var part in parts.Skip(1))
        {
            var property = type.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return false;
            }
            type = property.PropertyType;
        }
        return true;
    }

    [Fact]
    public void EveryKubernetesManifestParsesAndHasAKindAndAName()
    {
        var documents = Kubernetes();

        documents.Select(d => S(d, "kind")).ShouldBe(
            ["Deployment", "PodDisruptionBudget", "ServiceAccount", "Role", "RoleBinding", "Deployment", "Service", "Service"], ignoreOrder: true);
        documents.ShouldAllBe(d => !string.IsNullOrEmpty(S(d["metadata"], "name")));
    }

    [Fact]
    public void TheDeploymentRunsThreeSilosWithHealthProbesAndSecretsForTheConnectionStringAndKeys()
    {
        var deployment = Kind("Deployment", "crowd");
        var pod = At(deployment, "spec", "template");
        var container = Items(At(pod, "spec", "containers")).Single();
        var env = Items(container["env"]).ToDictionary(e => S(e, "name")!);

        S(deployment["spec"], "replicas").ShouldBe("3");
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            S(At(container, probe, "httpGet"), "path").ShouldBe("/health");
            S(At(container, probe, "httpGet"), "port").ShouldBe("http");
        }
        var ports = Items(container["ports"]).ToDictionary(p => S(p, "name")!, p => S(p, "containerPort"));
        ports["http"].ShouldBe("8080");
        S(env["ASPNETCORE_URLS"], "value").ShouldBe("http://0.0.0.0:8080");
        ports["silo"].ShouldBe(S(env["Crowd__Orleans__SiloPort"], "value"));
        foreach (var secret in new[] { "ConnectionStrings__Crowd", "ConnectionStrings__CrowdOwner", "Crowd__Clips__MasterKey",
                     "Crowd__Keys__DataProtection", "Crowd__Keys__Audit", "Crowd__Admin__Password" })
        {
            S(At(env[secret], "valueFrom", "secretKeyRef"), "name").ShouldBe("crowd", $"{secret} comes from the secret");
        }
        env.Values.ShouldAllBe(e => ((YamlMappingNode)e).Children.ContainsKey(new YamlScalarNode("value")) || ((YamlMappingNode)e).Children.ContainsKey(new YamlScalarNode("valueFrom")));
        env.Keys.Where(k => k.Contains("__", StringComparison.Ordinal)).ShouldAllBe(k => ServerReads(k), "every setting is one the server binds");
        Uri.TryCreate(S(env["Crowd__PublicUrl"], "value"), UriKind.Absolute, out var publicUrl).ShouldBeTrue();
        publicUrl!.Scheme.ShouldBe("https");
        S(env["Crowd__Orleans__Kubernetes"], "value").ShouldBe("true");
        foreach (var (variable, field) in new[] { ("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"), ("POD_IP", "status.podIP") })
        {
            S(At(env[variable], "valueFrom", "fieldRef"), "fieldPath").ShouldBe(field);
        }
        S(At(pod, "metadata", "labels"), "orleans/serviceId").ShouldBe(OrleansSetup.ServiceId);
        S(env["ORLEANS_SERVICE_ID"], "value").ShouldBe(OrleansSetup.ServiceId);
        S(At(pod, "metadata", "labels"), "orleans/clusterId").ShouldBe(S(env["Crowd__Orleans__ClusterId"], "value"));
        S(env["ORLEANS_CLUSTER_ID"], "value").ShouldBe(S(env["Crowd__Orleans__ClusterId"], "value"));
        S(At(pod, "spec"), "serviceAccountName").ShouldBe(S(Kind("ServiceAccount", "crowd")["metadata"], "name"));
    }

    [Fact]
    public void TheServiceAndTheDisruptionBudgetSelectTheNodesAndRedisIsWhereTheNodesLookForIt()
    {
        var labels = At(Kind("Deployment", "crowd"), "spec", "template", "metadata", "labels");
        var service = Kind("Service", "crowd");
        var budget = Kind("PodDisruptionBudget", "crowd");
        var env = Items(At(Kind("Deployment", "crowd"), "spec", "template", "spec", "containers")).Single()["env"];
        var redis = S(Items(env).Single(e => S(e, "name") == "Crowd__Orleans__Redis"), "value")!.Split(':');
        var redisService = Kind("Service", redis[0]);

        S(At(service, "spec", "selector"), "app").ShouldBe(S(labels, "app"));
        S(service["spec"], "sessionAffinity").ShouldBe("None", "no sticky sessions");
        S(At(budget, "spec", "selector", "matchLabels"), "app").ShouldBe(S(labels, "app"));
        S(budget["spec"], "maxUnavailable").ShouldBe("1");
        Items(At(redisService, "spec", "ports")).Single().Children[new YamlScalarNode("port")].ToString().ShouldBe(redis[1]);
    }

    [Fact]
    public void TheComposeFileRunsRedisAndThreeNodesThatReadOnlySettingsTheServerBindsAndNginxHasNoStickySessions()
    {
        var compose = Documents(Path.Combine(s_deploy, "docker-compose.yml")).Single();
        var services = (YamlMappingNode)compose["services"];
        var nodes = services.Children.Where(s => ((YamlScalarNode)s.Key).Value!.StartsWith("node", StringComparison.Ordinal)).ToList();
        var env = (YamlMappingNode)At(nodes.Single(n => ((YamlScalarNode)n.Key).Value == "node1").Value, "environment");
        var nginx = File.ReadAllText(Path.Combine(s_deploy, "nginx.conf"));

        services.Children.ShouldContainKey(new YamlScalarNode("redis"));
        nodes.Count.ShouldBe(3);
        env.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Where(k => k.Contains("__", StringComparison.Ordinal))
            .ShouldAllBe(k => ServerReads(k));
        S(env, "Crowd__Orleans__Redis").ShouldBe("redis:6379");
        nginx.ShouldNotContain("ip_hash");
        foreach (var node in nodes)
        {
            nginx.ShouldContain($"server {((YamlScalarNode)node.Key).Value}:8080;");
        }
    }
}
