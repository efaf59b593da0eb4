<?cs # pages_macros.cs - macros of the token pages (home, token, enroll,
     activate).  Included after macros.cs and before a page's defs. ?>
<?cs def:status_badge(s) ?><span class="badge <?cs var:s ?>"><?cs
  if:s == "pending" ?>Waiting for activation<?cs
  elif:s == "active" ?>Active<?cs
  elif:s == "disabled" ?>Disabled<?cs
  elif:s == "locked" ?>Locked<?cs
  elif:s == "expired" ?>Expired<?cs
  else ?><?cs var:s ?><?cs /if ?></span><?cs /def ?>
<?cs def:type_name(t) ?><?cs
  if:t == "totp" ?>Authenticator app (TOTP)<?cs
  elif:t == "hotp" ?>Counter-based (HOTP)<?cs
  elif:t == "email" ?>E-mail code<?cs
  else ?><?cs var:t ?><?cs /if ?><?cs /def ?>
<?cs # A one-time code input.  id must be unique on the page; errors of
     field `name` show only when show (the form that was sent) is true. ?>
<?cs def:code_input(id, name, label, digits, show) ?>
  <div class="field<?cs if:show && Errors[name] ?> has-error<?cs /if ?>">
    <label for="<?cs var:id ?>"><?cs var:label ?></label>
    <input id="<?cs var:id ?>" name="<?cs var:name ?>" type="text"
      inputmode="numeric" pattern="[0-9]*" autocomplete="one-time-code"
      maxlength="<?cs var:digits ?>" size="<?cs var:digits ?>" class="code"
      required<?cs if:show && Errors[name] ?> aria-invalid="true" aria-describedby="<?cs var:id ?>-error"<?cs /if ?>>
    <?cs if:show && Errors[name] ?><p class="field-error" id="<?cs var:id ?>-error"><?cs var:Errors[name] ?></p><?cs /if ?>
  </div>
<?cs /def ?>
<?cs def:choice_select(name, label) ?>
  <div class="field<?cs if:Errors[name] ?> has-error<?cs /if ?>">
    <label for="<?cs var:name ?>"><?cs var:label ?></label>
    <select id="<?cs var:name ?>" name="<?cs var:name ?>"<?cs if:Errors[name] ?> aria-invalid="true" aria-describedby="<?cs var:name ?>-error"<?cs /if ?>><?cs
      each:c = Choices[name] ?>
      <option value="<?cs var:c.value ?>"<?cs if:c.selected == 1 ?> selected<?cs /if ?>><?cs var:c.value ?><?cs
        if:name == "period" ?> seconds<?cs elif:name == "digits" ?> digits<?cs /if ?><?cs
        if:(name == "algorithm" && c.value == "SHA1") || (name == "digits" && c.value == "6") || (name == "period" && c.value == "30") ?> (recommended)<?cs /if ?></option><?cs
      /each ?>
    </select>
    <?cs call:field_error(name) ?>
  </div>
<?cs /def ?>
