using Gateway.Runtime.Proxy;

namespace Gateway.Runtime.Routing;

/// <summary>One segment of a compiled route: literal text, or a parameter capturing the whole segment.</summary>
public readonly struct RouteSegment
{
    private RouteSegment(string text, bool isParameter)
    {
        Text = text;
        IsParameter = isParameter;
    }

    /// <summary>The literal text (decoded), or the parameter's name.</summary>
    public string Text { get; }

    public bool IsParameter { get; }

    public static RouteSegment Literal(string text) => new(text, isParameter: false);

    public static RouteSegment Parameter(string name) => new(name, isParameter: true);
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
