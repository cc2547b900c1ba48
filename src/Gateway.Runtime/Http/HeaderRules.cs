using Gateway.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// The header-value rule of <see cref="HttpRules"/> over the run time's header collections. A value that breaks it is
/// never sent: not to a backend, where the HTTP client would refuse the whole request, and not to a client, where
/// Kestrel would refuse the whole response (docs/compatibility.md, header values).
/// </summary>
public static class HeaderRules
{
    /// <summary>True when every value of a (possibly repeated) header is valid.</summary>
    public static bool AreValidValues(StringValues values)
    {
        foreach (string? value in values)
        {
            if (value is not null && !HttpRules.IsHeaderValue(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when every value of a (possibly repeated) header is valid.</summary>
    public static bool AreValidValues(IEnumerable<string> values)
    {
        foreach (string value in values)
        {
            if (!HttpRules.IsHeaderValue(value))
            {
                return false;
            }
        }

        return true;
    }
}
