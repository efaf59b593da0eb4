<?cs include!"macros.cs" ?>
<?cs def:content() ?>
<section class="card narrow">
  <h1>Sign in</h1>
  <p class="lead">Use your <?cs var:Config.issuer ?> account: the same user name and password as on your work computer.</p>
  <form method="post" action="/login" class="stack">
    <?cs call:csrf() ?>
    <div class="field<?cs if:Errors.username ?> has-error<?cs /if ?>">
      <label for="username">User name</label>
      <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="256" required autofocus value="<?cs var:Query.username ?>"<?cs call:invalid("username") ?>>
      <?cs call:field_error("username") ?>
    </div>
    <div class="field<?cs if:Errors.password ?> has-error<?cs /if ?>">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" maxlength="256" required<?cs call:invalid("password") ?>>
      <?cs call:field_error("password") ?>
    </div>
    <button type="submit" class="primary">Sign in</button>
  </form>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
