using System;
using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

// What later steps of a sequence read from earlier ones.
internal sealed partial class ConfigParser
{
    /// <summary>
    /// Marks what later steps read of each backend beyond its shaped data: its raw body (<c>{respN}</c>) and the response
    /// headers named in <c>{respN.headers.Name}</c>, so the runtime keeps exactly those.
    /// </summary>
    private static void KeepWhatLaterStepsRead(List<BackendModel> backends, EquatableArray<PropagatedParamModel> propagated)
    {
        for (int n = 0; n < backends.Count; n++)
        {
            bool raw = false;
            var headers = new List<string>();
            foreach (BackendModel later in backends)
            {
                foreach (TemplatePartModel part in AllParts(later))
                {
                    if (part.Source != n)
                    {
                        continue;
                    }

                    raw |= part.Kind == TemplatePartKind.WholeResponse;
                    if (part.Kind == TemplatePartKind.ResponseHeader && !headers.Exists(h => string.Equals(h, part.Path[0], StringComparison.OrdinalIgnoreCase)))
                    {
                        headers.Add(part.Path[0]);
                    }
                }

                raw |= later.Body is { WholeResponse: var whole } && whole == n;
            }

            // sequential_propagated_params: "respN" is backend N's whole body.
            foreach (PropagatedParamModel parameter in propagated)
            {
                raw |= parameter.Value.Kind == TemplatePartKind.WholeResponse && parameter.Value.Source == n;
            }

            if (raw || headers.Count > 0)
            {
                backends[n] = backends[n] with { KeepRawBody = raw, CapturedHeaders = EquatableArray.From(headers) };
            }
        }
    }

    /// <summary>
    /// The earlier backends whose responses <paramref name="parts"/> read (a field, the whole body, a header), and
    /// <paramref name="wholeBody"/> when it is one (-1: none), ascending and each once.
    /// </summary>
    internal static List<int> ResponseSources(IEnumerable<TemplatePartModel> parts, int wholeBody)
    {
        var sources = new List<int>();
        foreach (TemplatePartModel part in parts)
        {
            if (part.Kind is TemplatePartKind.ResponseValue or TemplatePartKind.WholeResponse or TemplatePartKind.ResponseHeader && !sources.Contains(part.Source))
            {
                sources.Add(part.Source);
            }
        }

        if (wholeBody >= 0 && !sources.Contains(wholeBody))
        {
            sources.Add(wholeBody);
        }

        sources.Sort();
        return sources;
    }

    /// <summary>The earlier backends whose responses a backend reads anywhere: URL, body, headers and condition.</summary>
    internal static List<int> ResponsesRead(BackendModel backend) => ResponseSources(AllParts(backend), backend.Body?.WholeResponse ?? -1);

    /// <summary>Every template part of a backend: its condition, the array it runs over, URL, body and headers.</summary>
    internal static IEnumerable<TemplatePartModel> AllParts(BackendModel backend)
    {
        if (backend.When is { } when)
        {
            yield return when.Value;
        }

        if (backend.ForEach is { } forEach)
        {
            yield return forEach.Array;
        }

        foreach (TemplatePartModel part in backend.Url)
        {
            yield return part;
        }

        if (backend.Body is not null)
        {
            foreach (TemplatePartModel part in backend.Body.Parts)
            {
                yield return part;
            }
        }

        foreach (HeaderTemplateModel header in backend.Headers)
        {
            foreach (TemplatePartModel part in header.Parts)
            {
                yield return part;
            }
        }
    }
}
