<?cs include!"macros.cs" ?><?cs include!"pages_macros.cs" ?>
<?cs def:content() ?>
<p class="back"><a href="/">&larr; My tokens</a></p>
<div class="page-head">
  <h1><?cs if:Enroll.type == "totp" ?>Add an authenticator app<?cs else ?>Add a counter-based token (HOTP)<?cs /if ?></h1>
  <p class="lead"><?cs if:Enroll.type == "totp" ?>Your phone app will show a new
  code every <?cs if:Query.period == "60" ?>60<?cs else ?>30<?cs /if ?> seconds.<?cs else ?>The app or device shows a new code each time
  you ask for one.<?cs /if ?> Have your phone ready: the next page shows a QR
  code to scan.</p>
</div>

<?cs if:Enroll.full == 1 || Enroll.limit_message ?>
<section class="card">
  <p class="notice warn" id="max-tokens"><?cs if:Enroll.limit_message ?><?cs var:Enroll.limit_message ?><?cs
  else ?>You have the most tokens allowed here (<?cs var:Enroll.max_tokens ?>). Delete one
  you no longer use first.<?cs /if ?></p>
  <p><a class="button secondary" href="/">Back to my tokens</a></p>
</section>
<?cs else ?>
<section class="card">
  <form method="post" action="/enroll/<?cs var:Enroll.type ?>">
    <?cs call:csrf() ?>
    <div class="field<?cs if:Errors.description ?> has-error<?cs /if ?>">
      <label for="description">Description <span class="muted">(optional)</span></label>
      <input id="description" name="description" type="text" maxlength="128"
        value="<?cs var:Query.description ?>" placeholder="e.g. Work phone"<?cs if:Errors.description ?> aria-invalid="true" aria-describedby="description-error"<?cs /if ?>>
      <?cs call:field_error("description") ?>
    </div>
    <details class="advanced"<?cs if:Errors.algorithm || Errors.digits || Errors.period ?> open<?cs /if ?>>
      <summary>Advanced settings</summary>
      <p class="notice warn">Change these only if your app or device asks for it.
      Many apps, among them Google Authenticator and Microsoft Authenticator,
      ignore other settings and would show codes that never work.</p>
      <div class="row">
        <?cs call:choice_select("algorithm", "Algorithm") ?>
        <?cs call:choice_select("digits", "Code length") ?>
        <?cs if:Enroll.type == "totp" ?><?cs call:choice_select("period", "New code every") ?><?cs /if ?>
      </div>
    </details>
    <div class="buttons">
      <button type="submit" class="primary">Continue</button>
      <a class="button secondary" href="/">Cancel</a>
    </div>
  </form>
</section>
<?cs /if ?>
<?cs /def ?>
<?cs include!"layout.cs" ?>
