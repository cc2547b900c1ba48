using System.Collections.Generic;
using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Server;

/// <summary>The generated part of the root's server keys: the settings, built once in <c>CompiledGateway</c>.</summary>
internal static class ServerEmitter
{
    public const string TypeName = "global::Gateway.Components.Server.ServerSettings";

    public static string[] Arguments(ServerModel server)
    {
        var arguments = new List<string>();
        if (server.ListenIp is not null)
        {
            arguments.Add($"listenIp: {CSharp.String(server.ListenIp)}");
        }

        Add(arguments, "readHeaderTimeoutMilliseconds", server.ReadHeaderTimeoutMilliseconds);
        Add(arguments, "idleTimeoutMilliseconds", server.IdleTimeoutMilliseconds);
        Add(arguments, "maxHeaderBytes", server.MaxHeaderBytes);
        Add(arguments, "dialerTimeoutMilliseconds", server.DialerTimeoutMilliseconds);
        Add(arguments, "idleConnectionTimeoutMilliseconds", server.IdleConnectionTimeoutMilliseconds);
        if (server.Tls is { } tls)
        {
            var keys = new List<string>();
            foreach (TlsKeyModel key in tls.Keys)
            {
                keys.Add($"({CSharp.String(key.PublicKey)}, {CSharp.String(key.PrivateKey)})");
            }

            var suites = new List<string>();
            foreach (int suite in tls.CipherSuites)
            {
                suites.Add(suite.ToString(CultureInfo.InvariantCulture));
            }

            string mutual = string.Empty;
            if (tls.MutualTls)
            {
                var authorities = new List<string>();
                foreach (string authority in tls.CaCertificates)
                {
                    authorities.Add(CSharp.String(authority));
                }

                mutual = ", mutualTls: true"
                    + (authorities.Count == 0 ? string.Empty : $", caCertificates: new[] {{ {string.Join(", ", authorities)} }}")
                    + (tls.SystemCaPool ? string.Empty : ", systemCaPool: false");
            }

            arguments.Add(
                "tls: new global::Gateway.Components.Server.TlsSettings("
                + $"new (string, string)[] {{ {string.Join(", ", keys)} }}, "
                + $"{(tls.MinVersion is null ? "null" : CSharp.String(tls.MinVersion))}, "
                + $"{(tls.MaxVersion is null ? "null" : CSharp.String(tls.MaxVersion))}, "
                + (suites.Count == 0 ? "null" : $"new[] {{ {string.Join(", ", suites)} }}") + mutual + ")");
        }

        return arguments.ToArray();
    }

    public static string Describe(ServerModel server) =>
        "the root's server keys (defaults of the run-time settings)" + (server.Tls is null ? string.Empty : server.Tls.MutualTls ? ", HTTPS with client certificates" : ", HTTPS");

    private static void Add(List<string> arguments, string name, long? value)
    {
        if (value is { } v)
        {
            arguments.Add($"{name}: {v.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
