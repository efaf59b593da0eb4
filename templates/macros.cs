<?cs # Shared macros: included first by every page template (portal.h). ?><?cs
def:csrf() ?><input type="hidden" name="csrf" value="<?cs var:CSRF ?>"><?cs /def ?><?cs
def:field_error(name) ?><?cs if:Errors[name] ?><p class="field-error" id="<?cs var:name ?>-error"><?cs var:Errors[name] ?></p><?cs /if ?><?cs /def ?><?cs
def:invalid(name) ?><?cs if:Errors[name] ?> aria-invalid="true" aria-describedby="<?cs var:name ?>-error"<?cs /if ?><?cs /def ?>
