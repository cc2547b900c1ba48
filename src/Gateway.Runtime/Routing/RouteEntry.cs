using Gateway.Runtime.Proxy;

namespace Gateway.Runtime.Routing;

/// <summary>One segment of a compiled route: literal text, or a parameter capturing the whole segment.</summary>
public readonly struct RouteSegment
{
    private RouteSegment(string text, bool isParameter, string prefix = "", string suffix = "")
    {
        Text = text;
        IsParameter = isParameter;
        Prefix = prefix;
        Suffix = suffix;
    }

    /// <summary>The literal text (decoded), or the parameter's name.</summary>
    public string Text { get; }

    public bool IsParameter { get; }

    /// <summary>Literal text before a parameter in its segment (<c>disable_rest</c>), usually empty.</summary>
    public string Prefix { get; }

    /// <summary>Literal text after a parameter in its segment (<c>disable_rest</c>), usually empty.</summary>
    public string Suffix { get; }

    public static RouteSegment Literal(string text) => new(text, isParameter: false);

    public static RouteSegment Parameter(string name, string prefix = "", string suffix = "") => new(name, isParameter: true, prefix, suffix);

    /// <summary>For a parameter: the captured part of a decoded segment, or null when the affixes do not match.</summary>
    internal string? Capture(string decoded)
    {
        if (Prefix.Length == 0 && Suffix.Length == 0)
        {
            return decoded.Length > 0 ? decoded : null;
        }

        return decoded.Length > Prefix.Length + Suffix.Length && decoded.StartsWith(Prefix, StringComparison.Ordinal) && decoded.EndsWith(Suffix, StringComparison.Ordinal)
            ? decoded[Prefix.Length..^Suffix.Length]
            : null;
    }
}

/// <summary>A row of the generated route table: method, path template and the handler that serves it.</summary>
public sealed class RouteEntry
{
    public RouteEntry(string method, string template, RouteSegment[] segments, EndpointHandler handler)
    {
        Method = method;
        Template = template;
        Segments = segments;
        Handler = handler;
        handler.Template = template;
        foreach (RouteSegment segment in segments)
        {
            if (segment.IsParameter)
            {
                ParameterCount++;
            }
        }
    }

    public string Method { get; }

    public string Template { get; }

    public RouteSegment[] Segments { get; }

    public int ParameterCount { get; }

    public EndpointHandler Handler { get; }
}
