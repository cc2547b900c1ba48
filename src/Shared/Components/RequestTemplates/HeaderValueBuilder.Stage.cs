using System.Text;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Templates;

namespace Gateway.Components.RequestTemplates;

/// <summary>
/// Builds one request header value from a compiled template. Injected values use their text form
/// (<see cref="TemplateText"/>); the finished value must hold only visible ASCII, spaces and tabs, so a value with
/// CR, LF or any other control or non-ASCII character fails the step instead of splitting or corrupting a header.
/// </summary>
public sealed class HeaderValueBuilder : IDisposable
{
    private readonly PooledBuffer _buffer = new(128);

    public void AppendLiteral(ReadOnlySpan<byte> ascii) => _buffer.Write(ascii);

    /// <summary>A value of a response. False when it is missing or has no text form.</summary>
    public bool TryAppendJsonValue(ReadOnlySpan<byte> json, JsonPath path)
    {
        // A failed append leaves nothing behind, so a default can take its place.
        int mark = _buffer.Length;
        bool ok;
        using (TemplateScratch.Lease scratch = TemplateScratch.Rent())
        {
            ok = JsonValueLocator.TryResolve(json, path, scratch.Values, out ReadOnlySpan<byte> value)
                && TemplateText.TryWrite(value, _buffer, jsonEscaped: false);
        }

        if (!ok)
        {
            _buffer.Truncate(mark);
        }

        return ok;
    }

    /// <summary>A text value (route parameter, client header or query value, response header). False when missing.</summary>
    public bool TryAppendText(string? text)
    {
        if (text is null)
        {
            return false;
        }

        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        _buffer.Advance(Encoding.UTF8.GetBytes(text, _buffer.GetSpan(max)));
        return true;
    }

    /// <summary>The value, or null when it holds a character a header value cannot (<see cref="HeaderRules"/>).</summary>
    public string? ToValue()
    {
        ReadOnlySpan<byte> value = _buffer.WrittenSpan;
        return Gateway.Http.HttpRules.IsHeaderValue(value) ? Encoding.ASCII.GetString(value) : null;
    }

    public void Dispose() => _buffer.Dispose();
}
