namespace Gateway.Config.Parsing;

/// <summary>
/// KrakenD's host sanitising (docs/configuration.md, root; docs/compatibility.md for where ports differ): an optional lowercase <c>http://</c> or <c>https://</c>, a host
/// name of <c>[A-Za-z0-9._-]</c>, an optional port and an optional trailing slash — nothing else (no path, no IPv6,
/// no user info). The result is <c>scheme://host[:port]</c>. Unlike KrakenD, whose pattern needs 2 to 6 port digits,
/// a one-digit port is a port like any other (docs/compatibility.md).
/// </summary>
internal static class Hosts
{
    private static readonly char[] ForbiddenInVerbatim = { ' ', '\t', '\r', '\n', '{', '}' };

    /// <summary>What <see cref="IsPort"/> requires, for messages.</summary>
    public const string PortRule = "the port must be a number from 1 to 65535";

    /// <summary>
    /// The one rule for a backend's port, wherever a host is written (sanitized, verbatim, <c>--backend-host</c>):
    /// 1 to 65535. Port 0 only means "any free port" to a listener; no request can be sent to it.
    /// </summary>
    public static bool IsPort(int port) => port >= 1 && port <= 65535;

    /// <summary>
    /// A DNS name as an SRV record's name is written (<c>_http._tcp.catalog.service.consul</c>, an optional final dot):
    /// labels of letters, digits, '-' and '_' (services and protocols start with '_'), 1 to 63 characters each, at most
    /// 253 in all.
    /// </summary>
    public static bool IsDnsName(string text)
    {
        string name = text.EndsWith(".", System.StringComparison.Ordinal) ? text.Substring(0, text.Length - 1) : text;
        if (name.Length == 0 || name.Length > 253)
        {
            return false;
        }

        foreach (string label in name.Split('.'))
        {
            if (label.Length == 0 || label.Length > 63)
            {
                return false;
            }

            foreach (char c in label)
            {
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// <c>disable_host_sanitize</c>: the host is used as written, so it may carry a path prefix
    /// (<c>http://h:8080/api</c>). It must still be an absolute http(s) URL without query, fragment or user info.
    /// </summary>
    public static bool TryUseVerbatim(string text, out string host, out string problem)
    {
        host = text.TrimEnd('/');
        if (!System.Uri.TryCreate(text, System.UriKind.Absolute, out System.Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            problem = "it must be an absolute http:// or https:// URL";
            return false;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0 || text.IndexOfAny(ForbiddenInVerbatim) >= 0)
        {
            problem = "it cannot carry a query, a fragment, user info, spaces or braces";
            return false;
        }

        // The URL parser accepts port 0 (and refuses ports past 65535 itself).
        if (!IsPort(uri.Port))
        {
            problem = PortRule;
            return false;
        }

        problem = string.Empty;
        return true;
    }

    public static bool TrySanitize(string text, out string sanitized, out string problem)
    {
        sanitized = string.Empty;
        string scheme = "http://";
        string rest = text;
        if (rest.StartsWith("https://", System.StringComparison.Ordinal))
        {
            scheme = "https://";
            rest = rest.Substring(8);
        }
        else if (rest.StartsWith("http://", System.StringComparison.Ordinal))
        {
            rest = rest.Substring(7);
        }
        else if (rest.Contains("://"))
        {
            problem = "only lowercase http:// and https:// are supported";
            return false;
        }

        if (rest.EndsWith("/", System.StringComparison.Ordinal))
        {
            rest = rest.Substring(0, rest.Length - 1);
        }

        int colon = rest.IndexOf(':');
        string name = colon < 0 ? rest : rest.Substring(0, colon);
        if (name.Length == 0)
        {
            problem = "the host name is empty";
            return false;
        }

        foreach (char c in name)
        {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
            if (!ok)
            {
                problem = c == '/' ? "a host cannot contain a path; put the path in url_pattern" : $"'{c}' is not allowed in a host name";
                return false;
            }
        }

        if (colon >= 0)
        {
            string port = rest.Substring(colon + 1);
            if (port.Contains("/"))
            {
                problem = "a host cannot contain a path; put the path in url_pattern";
                return false;
            }

            // Up to 6 digits, as KrakenD's pattern allows (leading zeros included).
            if (port.Length > 6 || !int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) || !IsPort(value))
            {
                problem = PortRule;
                return false;
            }
        }

        sanitized = scheme + rest;
        problem = string.Empty;
        return true;
    }
}
